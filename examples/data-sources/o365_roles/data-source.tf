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
