"""Modal dialogs: small forms that return their answer through `dismiss`."""
