"""The socket layer: thin namespaces that parse, call an action, and acknowledge."""
