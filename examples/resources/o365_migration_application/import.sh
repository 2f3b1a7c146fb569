# Import by the application's client ID.
terraform import o365_migration_application.graph 5951643e-5013-442f-963c-1ee875bbe74a
