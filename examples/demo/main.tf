# The demo configuration `make demo` applies against the emulated tenant (tenant.json).
# Against Microsoft, drop `endpoints` and `ca_certificate_file` and give real accounts.

terraform {
  required_version = ">= 1.5.0" # Terraform 1.5+ or OpenTofu (README: supported CLI versions)
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

variable "admin_password" {
  type      = string
  sensitive = true
}

variable "mfa_admin_app_password" {
  type      = string
  sensitive = true
}

variable "global_admin_app_password" {
  type      = string
  sensitive = true
}

provider "o365" {
  cloud = "worldwide"
  endpoints = {
    login    = var.endpoint
    graph    = var.endpoint
    exchange = var.endpoint
  }
  ca_certificate_file = var.ca_certificate_file
}

# An admin account without any management role, which may not assign roles itself:
# the Global Administrator assigns the missing ones (and is never used for the migration).
resource "o365_target_connection" "main" {
  name        = "Contoso target"
  admin_email = "admin@contoso.onmicrosoft.com"
  password    = var.admin_password

  global_admin = {
    email        = "ga@contoso.onmicrosoft.com"
    app_password = var.global_admin_app_password
  }
  revoke_managed_roles = true
}

# An admin account with multi-factor authentication: it signs in with an app password.
resource "o365_target_connection" "mfa" {
  name                = "Contoso target (MFA admin)"
  admin_email         = "mfa.admin@contoso.onmicrosoft.com"
  app_password        = var.mfa_admin_app_password
  public_folders_role = true

  global_admin = {
    email        = "ga@contoso.onmicrosoft.com"
    app_password = var.global_admin_app_password
  }
}

output "connections" {
  description = "What each connection needs, holds, and what this configuration assigned."
  value = {
    for k, c in {
      main = o365_target_connection.main
      mfa  = o365_target_connection.mfa
      } : k => {
      admin                 = c.admin_email
      tenant_id             = c.tenant_id
      ews_url               = c.ews_url
      required_roles        = sort(c.required_roles)
      missing_roles         = sort(c.missing_roles)
      assigned_by_terraform = sort([for a in c.managed_role_assignments : a.role])
    }
  }
}
