# A reusable module: the target connections of one migration, one per admin account.

terraform {
  required_version = ">= 1.5.0" # Terraform 1.5+ or OpenTofu (README: supported CLI versions)
  required_providers {
    o365 = {
      source = "o365-terraform/o365"
    }
  }
}

variable "admins" {
  description = "Admin accounts the migration uses, keyed by a short name. Give exactly one of password and app_password (MFA accounts)."
  type = map(object({
    email        = string
    password     = optional(string)
    app_password = optional(string)
  }))
  sensitive = true
}

variable "name_prefix" {
  description = "Prefix of each connection's display name."
  type        = string
  default     = "Migration target"
}

variable "public_folders" {
  description = "Whether the migration includes public folders (requires the Public Folders role)."
  type        = bool
  default     = false
}

variable "create_mailboxes" {
  description = "Whether the migration creates new mailboxes (requires the User Administrator directory role)."
  type        = bool
  default     = false
}

variable "assign_missing_roles" {
  description = "Assign missing roles; when false, apply lists them with the commands to run."
  type        = bool
  default     = true
}

variable "revoke_managed_roles" {
  description = "Remove the roles these connections assigned when no longer needed and on destroy."
  type        = bool
  default     = false
}

variable "global_admin" {
  description = "A Global Administrator used only to assign roles the admin accounts cannot assign themselves."
  type = object({
    email        = string
    password     = optional(string)
    app_password = optional(string)
  })
  default   = null
  sensitive = true
}

data "o365_roles" "required" {
  public_folders_role  = var.public_folders
  user_management_role = var.create_mailboxes
}

resource "o365_target_connection" "this" {
  for_each = nonsensitive(toset(keys(var.admins)))

  name                 = "${var.name_prefix} (${each.key})"
  admin_email          = var.admins[each.key].email
  password             = var.admins[each.key].password
  app_password         = var.admins[each.key].app_password
  public_folders_role  = var.public_folders
  user_management_role = var.create_mailboxes
  assign_missing_roles = var.assign_missing_roles
  revoke_managed_roles = var.revoke_managed_roles
  global_admin         = var.global_admin
}

output "required_roles" {
  description = "The roles every connection needs with these toggles."
  value       = data.o365_roles.required.required_role_names
}

output "connections" {
  description = "Per admin: the connection's id, tenant, EWS endpoint, the roles it holds and lacks, and those this module assigned."
  value = {
    for k, c in o365_target_connection.this : k => {
      id                    = c.id
      tenant_id             = c.tenant_id
      ews_url               = c.ews_url
      assigned_roles        = c.assigned_roles
      missing_roles         = c.missing_roles
      assigned_by_terraform = [for a in c.managed_role_assignments : a.role]
    }
  }
}
