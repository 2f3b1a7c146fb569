# Import by <tenant>/<client_id>/<name>: the tenant's ID or one of its domains, the
# application (client) ID, and the connection's name (everything after the second slash).
# The credential and the mailboxes live only in configuration: the next apply verifies the
# connection with them.
terraform import o365_target_app_connection.target "contoso.onmicrosoft.com/5951643e-5013-442f-963c-1ee875bbe74a/Contoso target"
