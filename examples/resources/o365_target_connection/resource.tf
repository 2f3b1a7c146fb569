variable "admin_app_password" {
  type      = string
  sensitive = true
}

variable "global_admin_app_password" {
  type      = string
  sensitive = true
}

# An MFA admin account signs in with an app password. Roles it lacks are assigned by a
# Global Administrator, whose credentials are used for nothing else.
resource "o365_target_connection" "target" {
  name         = "Contoso target"
  admin_email  = "migration@contoso.onmicrosoft.com"
  app_password = var.admin_app_password

  public_folders_role  = true  # migrating public folders too
  user_management_role = false # mailboxes exist already
  revoke_managed_roles = true  # remove the roles this connection assigned when no longer needed

  global_admin = {
    email        = "ga@contoso.onmicrosoft.com"
    app_password = var.global_admin_app_password
  }

  timeouts {
    create = "45m" # new roles can take a while to take effect in Exchange Online
  }
}

output "missing_roles" {
  value = o365_target_connection.target.missing_roles
}
