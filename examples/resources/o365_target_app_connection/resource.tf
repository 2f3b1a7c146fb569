# The recommended credential: a certificate with its private key (no secret anywhere in the
# tenant). Its public part is registered on the application; this is the PEM text of the
# certificate and its unencrypted RSA key, e.g. file("migration.pem") or from a vault.
# A PKCS#12 file works too: client_certificate = filebase64("migration.pfx") with
# client_certificate_password.
variable "client_certificate" {
  type      = string
  sensitive = true
}

resource "o365_target_app_connection" "target" {
  name               = "Contoso target"
  tenant             = "contoso.onmicrosoft.com"
  client_id          = "5951643e-5013-442f-963c-1ee875bbe74a"
  client_certificate = var.client_certificate

  # Every plan opens each of these mailboxes as the application (Microsoft Graph).
  verify_mailboxes = [
    "first.user@contoso.onmicrosoft.com",
    "last.user@contoso.onmicrosoft.com",
  ]
}

output "credential_expires_at" {
  value = o365_target_app_connection.target.credential_expires_at
}

output "missing_permissions" {
  value = o365_target_app_connection.target.missing_permissions
}
