# The provider's management identity registers the application (see the provider page):
#   provider "o365" { management = { tenant_id = …, client_id = …, client_certificate_file = … } }

variable "migration_engine_certificate" {
  description = "The migration engine's public certificate (PEM); its private key never leaves the engine."
  type        = string
}

# Microsoft Graph, tenant-wide, with a certificate (the recommended credential: the
# migration engine keeps the private key, no secret exists anywhere).
resource "o365_migration_application" "graph" {
  display_name = "Mailbox migration (target)"
  certificate  = var.migration_engine_certificate
}

# An engine that imports through Microsoft Graph's mailbox import API (the way forward after
# EWS ends on 1 April 2027; worldwide cloud only), for only the mailboxes to migrate, with
# Exchange RBAC for Applications: the mailbox folder, import and settings permissions are
# Exchange application roles limited to the scope, none consented tenant-wide. A client
# secret kept in the state, renewed 30 days before it expires, the old one kept 7 more days
# for the migration engine to switch.
resource "o365_migration_application" "scoped" {
  display_name                     = "Mailbox migration (scoped)"
  protocol                         = "graph_import"
  read_target_items                = true # the engine lists what it imported: incremental runs
  create_client_secret             = true
  client_secret_lifetime_days      = 90
  client_secret_rotate_before_days = 30
  client_secret_overlap_days       = 7
  user_management                  = true

  mailbox_scope = {
    recipient_filter = "CustomAttribute15 -eq 'migrate'"
  }
}

output "scoped_application" {
  value = {
    tenant_id   = o365_migration_application.scoped.tenant_id
    client_id   = o365_migration_application.scoped.client_id
    permissions = o365_migration_application.scoped.granted_permissions
    expires     = o365_migration_application.scoped.credential_expires_at
  }
}

output "scoped_client_secret" {
  value     = o365_migration_application.scoped.client_secret
  sensitive = true
}
