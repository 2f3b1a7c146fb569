# The public certificate the migration engine signs in with (the .crt, never the key).
variable "migration_certificate" {
  type = string
}

locals {
  certificate = provider::o365::certificate_info(var.migration_certificate)
}

# Subject, validity (RFC 3339, UTC) and thumbprint of the certificate.
output "migration_certificate" {
  value = local.certificate
}

# A warning a month before the certificate expires (timecmp compares RFC 3339 times).
check "certificate_valid_for_a_month" {
  assert {
    condition     = timecmp(local.certificate.not_after, timeadd(plantimestamp(), "720h")) > 0
    error_message = "The migration certificate ${local.certificate.thumbprint} expires on ${local.certificate.not_after}; renew it."
  }
}
