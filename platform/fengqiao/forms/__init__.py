"""Form engine: definitions, versions, rendering, validation, submissions."""
