"""Request models of the wire, with every validation rule of the API docs."""
