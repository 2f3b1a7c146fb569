# The public certificate the migration engine signs in with (the .crt, never the key).
variable "migration_certificate" {
  type = string
}

# The thumbprint Entra shows under Certificates & secrets, e.g. to configure the engine.
output "migration_certificate_thumbprint" {
  value = provider::o365::certificate_thumbprint(var.migration_certificate)
}
