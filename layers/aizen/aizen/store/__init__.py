"""The only code that touches boto3: table access, item shapes, error translation."""
