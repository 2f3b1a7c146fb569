# Import by <tenant>/<client_id>. The credential, name and mailboxes live only in
# configuration: the next apply verifies the connection with them.
terraform import o365_target_app_connection.target contoso.onmicrosoft.com/5951643e-5013-442f-963c-1ee875bbe74a
