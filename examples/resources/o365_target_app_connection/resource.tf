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

# A migration engine that imports through Microsoft Graph's mailbox import API (worldwide
# cloud only; the way forward after EWS ends on 1 April 2027). Every plan proves, for each
# mailbox, that the application finds its mailbox ID, reads its folders and may create an
# import session; nothing is imported, and the session's upload URL is never used or kept.
resource "o365_target_app_connection" "import" {
  name               = "Contoso target (Graph import)"
  tenant             = "contoso.onmicrosoft.com"
  client_id          = "8c3d4e5f-6071-4c8d-9e0f-1a2b3c4d5e6f"
  client_certificate = var.client_certificate
  protocol           = "graph_import"
  verify_mailboxes   = ["first.user@contoso.onmicrosoft.com"]
}

output "credential_expires_at" {
  value = o365_target_app_connection.target.credential_expires_at
}

output "missing_permissions" {
  value = {
    graph        = o365_target_app_connection.target.missing_permissions
    graph_import = o365_target_app_connection.import.missing_permissions
  }
}
