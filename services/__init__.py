"""The platform's services and the machinery they share (``services.eventcore``)."""
