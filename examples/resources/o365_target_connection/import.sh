# Import by <cloud>/<admin_email>. Secrets live only in configuration: the next apply
# verifies the connection with them.
terraform import o365_target_connection.target worldwide/migration@contoso.onmicrosoft.com
