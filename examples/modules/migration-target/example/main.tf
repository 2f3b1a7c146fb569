# A root configuration calling the migration-target module. CI applies it against the
# emulated tenant (examples/demo/tenant.json); against Microsoft, drop `endpoints` and
# `ca_certificate_file`.

terraform {
  required_version = ">= 1.5.0" # Terraform 1.5+ or OpenTofu (README: supported CLI versions)
  required_providers {
    o365 = {
      source = "o365-terraform/o365"
    }
  }
}

variable "endpoint" {
  type    = string
  default = null
}

variable "ca_certificate_file" {
  type    = string
  default = null
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
  endpoints = var.endpoint == null ? null : {
    login    = var.endpoint
    graph    = var.endpoint
    exchange = var.endpoint
  }
  ca_certificate_file = var.ca_certificate_file
}

module "target" {
  source = "../"

  admins = {
    main = { email = "admin@contoso.onmicrosoft.com", password = var.admin_password }
    mfa  = { email = "mfa.admin@contoso.onmicrosoft.com", app_password = var.mfa_admin_app_password }
  }
  public_folders = true
  global_admin = {
    email        = "ga@contoso.onmicrosoft.com"
    app_password = var.global_admin_app_password
  }
}

output "required_roles" {
  value = module.target.required_roles
}

output "connections" {
  value = module.target.connections
}

# The application path (needs the provider's `management` identity; the emulated demo tenant
# has none, so it is off here):
#
# module "target_app" {
#   source = "../"
#   application = {
#     display_name     = "Mailbox migration (target)"
#     protocol         = "graph_import" # an engine that imports through Graph's mailbox import API
#     certificate      = file("migration-engine.crt")
#     recipient_filter = "CustomAttribute15 -eq 'migrate'"
#   }
# }
