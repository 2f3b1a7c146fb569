# A reusable module: the target side of one migration. Two paths, side by side:
#  - admin accounts (`admins`): an o365_target_connection per account (EWS impersonation, management roles);
#  - an Entra application (`application`): o365_migration_application registers it, with the permissions of
#    its protocol (Graph, Graph's mailbox import API or EWS) or, with a recipient filter, Exchange RBAC for
#    Applications limited to those mailboxes. It needs the provider's `management` identity.
#    With `verify_mailboxes`, an o365_target_app_connection fed from it verifies those mailboxes on every plan.

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
  default   = {}
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

variable "application" {
  description = "The Entra application path: register an application for the migration engine. null: none."
  type = object({
    # protocol: the API the engine writes with — graph, graph_import (Graph's mailbox import API,
    # worldwide only) or ews (until 1 April 2027).
    display_name     = string
    protocol         = optional(string, "graph")
    certificate      = optional(string) # PEM public certificate (recommended)
    client_secret    = optional(bool, false)
    recipient_filter = optional(string)          # OPATH filter: only these mailboxes (RBAC for Applications)
    verify_mailboxes = optional(set(string), []) # verified on every plan by an o365_target_app_connection
    # Renew the secret this many days before its end; the old one stays registered 7 more days.
    client_secret_rotate_before_days = optional(number)
    # With protocol = "graph_import": also let the engine list what the target mailboxes hold
    # (incremental runs, no duplicates).
    read_target_items = optional(bool, false)
  })
  default = null
}

data "o365_roles" "application" {
  count = var.application == null ? 0 : 1

  connection_type      = "application"
  protocol             = var.application.protocol
  mailbox_scope        = var.application.recipient_filter != null
  read_target_items    = var.application.read_target_items
  user_management_role = var.create_mailboxes
}

resource "o365_migration_application" "this" {
  count = var.application == null ? 0 : 1

  display_name         = var.application.display_name
  protocol             = var.application.protocol
  public_folders       = var.public_folders
  user_management      = var.create_mailboxes
  certificate          = var.application.certificate
  create_client_secret = var.application.client_secret
  mailbox_scope        = var.application.recipient_filter == null ? null : { recipient_filter = var.application.recipient_filter }
  read_target_items    = var.application.read_target_items
  # The connection below uses the secret: a renewal updates and re-verifies it in the same apply.
  client_secret_rotate_before_days = var.application.client_secret_rotate_before_days
}

variable "application_certificate_key" {
  description = "The migration engine's certificate with its private key (PEM), for the connection that verifies the application's mailboxes when `application.certificate` is set."
  type        = string
  default     = null
  sensitive   = true
}

resource "o365_target_app_connection" "this" {
  count = var.application == null ? 0 : (length(var.application.verify_mailboxes) > 0 ? 1 : 0)

  name               = "${var.name_prefix} (application)"
  tenant             = o365_migration_application.this[0].tenant_id
  client_id          = o365_migration_application.this[0].client_id
  protocol           = var.application.protocol
  client_certificate = var.application.certificate == null ? null : var.application_certificate_key
  client_secret      = var.application.certificate == null ? o365_migration_application.this[0].client_secret : null
  verify_mailboxes   = var.application.verify_mailboxes
}

output "application" {
  description = "The registered application: what the migration engine signs in with, and what it was granted. null without `application`."
  value = var.application == null ? null : {
    tenant_id             = o365_migration_application.this[0].tenant_id
    client_id             = o365_migration_application.this[0].client_id
    required_permissions  = data.o365_roles.application[0].required_role_names
    granted_permissions   = o365_migration_application.this[0].granted_permissions
    missing_permissions   = o365_migration_application.this[0].missing_permissions
    credential_expires_at = o365_migration_application.this[0].credential_expires_at
    unreachable_mailboxes = one(o365_target_app_connection.this[*].unreachable_mailboxes)
    verified_at           = one(o365_target_app_connection.this[*].verified_at)
  }
}

output "application_client_secret" {
  description = "The application's client secret (stored in state), with `application.client_secret = true`."
  value       = var.application == null ? null : o365_migration_application.this[0].client_secret
  sensitive   = true
}
