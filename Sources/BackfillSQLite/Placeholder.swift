enum _PlaceholderBackfillSQLite {}
