enum _PlaceholderBackfillFiles {}
