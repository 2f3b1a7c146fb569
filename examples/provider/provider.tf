# Terraform 1.5 or later, or OpenTofu (the provider's supported CLI versions).
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    o365 = {
      source = "o365-terraform/o365"
    }
  }
}

# Office 365 worldwide (the default cloud) with Microsoft's own endpoints.
provider "o365" {}

# A sovereign cloud, with a registered public client for the password grant.
provider "o365" {
  alias     = "gcc_high"
  cloud     = "usgovernment"
  client_id = "00000000-0000-0000-0000-000000000000"
}

# The emulated tenant (or a proxy): only the endpoints and the CA differ.
provider "o365" {
  alias = "emulated"
  endpoints = {
    login    = "https://127.0.0.1:8443"
    graph    = "https://127.0.0.1:8443"
    exchange = "https://127.0.0.1:8443"
  }
  ca_certificate_file = ".bin/emulator-ca.pem"
  max_retries         = 3
}

# The management identity, for o365_migration_application: an Entra application of your
# own with a certificate file (or client_secret, or federated_token_file). Each argument
# also has its environment variable (O365_TENANT_ID, O365_MANAGEMENT_CLIENT_ID, …).
provider "o365" {
  alias = "registrations"
  management = {
    tenant_id               = "contoso.onmicrosoft.com"
    client_id               = "0f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
    client_certificate_file = "management.pem"
  }
}
