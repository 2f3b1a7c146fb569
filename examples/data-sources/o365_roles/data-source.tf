# The roles a connection with public-folder migration needs, without calling Microsoft.
data "o365_roles" "catalogue" {
  public_folders_role = true
  admin_email         = "migration@contoso.onmicrosoft.com"
}

output "required_roles" {
  value = data.o365_roles.catalogue.required_role_names
}

# The commands an administrator would run to grant each required role by hand.
output "grant_commands" {
  value = { for r in data.o365_roles.catalogue.roles : r.name => r.grant_command if r.required }
}

# What an Entra application registered by o365_migration_application is given: Graph
# application permissions, and with mailbox_scope Exchange application roles.
data "o365_roles" "application" {
  connection_type = "application"
  protocol        = "graph"
  mailbox_scope   = true
  client_id       = "5951643e-5013-442f-963c-1ee875bbe74a"
}

output "application_grants" {
  value = { for r in data.o365_roles.application.roles : r.name => { kind = r.kind, resource = r.resource, permission = r.permission, command = r.grant_command } if r.required }
}
