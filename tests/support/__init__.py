"""What the tests share: waiting helpers, gateway fixtures and tape statistics."""
