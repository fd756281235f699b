"""admin_gateway: public smart-money API and the internal synthetic-control API."""
