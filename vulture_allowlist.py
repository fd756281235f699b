"""Names vulture cannot see being used: framework hooks called by name, not by our code."""

# ruff: noqa: B018
_ = object()
_.sort_keys  # Flask's JSON provider reads it (admin_gateway/app.py)
_.load_config  # gunicorn BaseApplication hook (synthmarket/infra/gunicorn_app.py)
_.load  # gunicorn BaseApplication hook
_.redirect_request  # urllib HTTPRedirectHandler hook (webui/gateway_proxy.py)
_.daemon_threads  # socketserver reads it (webui/local_servers.py)
_.input_buffer  # the websocket client library reads it (bench/bench_gateway.py)
_.hedge_reactive  # an attribute set on purpose to prove a frozen map refuses it (tests/unit/test_control.py)
