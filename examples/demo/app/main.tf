# The way forward, as `make demo` applies it against the emulated Exchange Online of 2026
# (../tenant-2026.json): an Entra application registered and consented by Terraform for a
# migration engine that imports through Microsoft Graph's mailbox import API (the way forward
# after EWS ends on 1 April 2027), its mailbox access limited to one department with Exchange
# RBAC for Applications, and the connection the migration engine uses, verified on every plan.
# Against Microsoft, drop `endpoints` and `ca_certificate_file`.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    o365 = {
      source = "o365-terraform/o365"
    }
  }
}

variable "endpoint" {
  description = "Base URL of the emulated tenant (login, Graph and Exchange on one host)."
  type        = string
}

variable "ca_certificate_file" {
  description = "The emulated tenant's CA certificate (PEM)."
  type        = string
}

variable "management_client_secret" {
  description = "Secret of the management identity (in CI, prefer federated_token_file: no secret at all)."
  type        = string
  sensitive   = true
}

provider "o365" {
  endpoints = {
    login    = var.endpoint
    graph    = var.endpoint
    exchange = var.endpoint
  }
  ca_certificate_file = var.ca_certificate_file

  # The organisation's own application that registers others: never a user.
  management = {
    tenant_id     = "contoso.onmicrosoft.com"
    client_id     = "0f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
    client_secret = var.management_client_secret
  }
}

# Automatic registration: the application the migration engine signs in as, with exactly the
# permissions a Graph import target needs (mailbox folders, import sessions, mailbox settings;
# User.Read.All to find each mailbox), and only for Sales: the mailbox permissions are
# Exchange application roles limited to the scope, none consented tenant-wide.
resource "o365_migration_application" "target" {
  display_name         = "Contoso migration target"
  protocol             = "graph_import"
  create_client_secret = true # a certificate is better; a secret keeps the demo short

  mailbox_scope = {
    recipient_filter = "Department -eq 'Sales'"
  }
}

# The connection the migration engine uses: every plan proves, for each mailbox it will write
# to, that the application finds the mailbox, reads its folders and may create an import session
# (nothing is imported; the session's upload URL is never used or kept).
resource "o365_target_app_connection" "target" {
  name             = "Contoso target (application)"
  tenant           = o365_migration_application.target.tenant_id
  client_id        = o365_migration_application.target.client_id
  client_secret    = o365_migration_application.target.client_secret
  protocol         = o365_migration_application.target.protocol
  verify_mailboxes = ["anna@contoso.com", "ben@contoso.com"]
}

# What the connection finds at each refresh (unreachable_mailboxes, pending_mailboxes) is in
# its state and in the plan's warnings; it is not an output here, whose value would then change
# with every refresh that finds drift.
output "application" {
  description = "What the application was granted, and which mailboxes its connection verified when."
  value = {
    client_id           = o365_migration_application.target.client_id
    granted_permissions = sort(o365_migration_application.target.granted_permissions)
    missing_permissions = sort(o365_migration_application.target.missing_permissions)
    verified_mailboxes  = sort(o365_target_app_connection.target.verify_mailboxes)
    verified_at         = o365_target_app_connection.target.verified_at
  }
}

output "client_id" {
  description = "The application (client) ID the migration engine signs in with."
  value       = o365_migration_application.target.client_id
}
