"""Names vulture cannot see being used (vulture's whitelist format; pyproject.toml [tool.vulture] reads it).

Flask routes, hooks and error handlers and websocket routes are allowed by decorator in pyproject.toml.
Everything else that is only called by name, by a framework or by the tests is listed here with the reason.
"""

# ruff: noqa: B018
_ = object()

# --- called or read by a framework, not by our code ---------------------------------------------
_.status_code  # Flask sends the Response attribute (admin_gateway/errors.py)
_.sort_keys  # Flask's JSON provider reads it (admin_gateway/app.py)
_.load_config  # gunicorn BaseApplication hook (synthmarket/infra/gunicorn_app.py)
_.load  # gunicorn BaseApplication hook
_.redirect_request  # urllib HTTPRedirectHandler hook (webui/gateway_proxy.py)
_.daemon_threads  # socketserver reads it (webui/local_servers.py)
_.get_cookie_secure  # Flask SessionInterface hook (webui/operator_auth.py)
_.session_interface  # Flask reads it on every request (webui/operator_auth.py)
_.permanent  # Flask's session reads it to give the cookie an expiry (webui/operator_auth.py)
_.exc_info  # the context-manager protocol passes it to __exit__ (synthmarket/infra/embedded_nats.py)
_.GetUnderlyingState  # gRPC servicer method, called by name (regime_svc/server.py; protos/regime.proto)
_.GetScenarioWeights  # gRPC servicer method
_.GetCoverageBoost  # gRPC servicer method
_.GetControl  # gRPC servicer method

# --- public API kept on purpose: tests exercise it as the unit under test ------------------------
_.parse_occ  # inverse of chain.occ_symbol (synthmarket/domain/chain.py)
_.otm_pct  # documented convention, docs/flow_footprints.md
_.is_gamma_strike  # the documented gamma-strike rule; flow_svc/rules.py inlines it on its hot path
_.on_grid  # the documented price-grid rule (synthmarket/domain/chain.py); tests check every quote and print
_.implied_vol  # the American model's inverse (options_svc/american.py); tests back print IVs out with it
_.labeled_share  # ScenarioWeights property (synthmarket/domain/session.py)
_.trading_date  # SessionReading field (synthmarket/domain/session_clock.py)
_.is_wall_time  # SessionReading property: the identity inside a real session at speed 1
_.longest_window_ms  # Thresholds: the horizon a final classifier flush needs (flow_svc/rules.py; tests, bench)
_.boosts_applied  # OptionsGenerator: how often coverage assist fired (options_svc/generator.py; tests)
_.labels_for  # OptionsGenerator: hidden labels of emitted prints, test-only output by design
_.scenario_context  # OptionsGenerator: the context a forced scenario sees, for tests
_.start_options_service  # runs the options ingest service in-process (options_svc/service.py; integration tests)
_.start_equities_service  # runs the equities ingest service in-process (equities_svc/service.py; integration tests)

# --- only the tests use these; their owners decide whether they stay ------------------------------
_.address  # RegimeServer.address (regime_svc/server.py)
_.wait_for_control  # RegimeServer.wait_for_control (regime_svc/server.py)
_.snapshot_revision  # IngestStatus.snapshot_revision, not in the StatusReport (synthmarket/infra/ingest.py)
_.tcp_ready  # readiness probe (synthmarket_cli/up/children.py)
_.url_as  # EmbeddedNats: a URL carrying one identity, for the tests' NATS fixture and the benchmarks
_.index_of  # EmbeddedCluster: a node by server name, for the fault tests (tests/integration/test_cluster_faults.py)
_.restart  # EmbeddedCluster: a killed node back on its ports and store, for the fault tests

# --- only when tests/ and bench/ are scanned too ----------------------------------------------------
_.input_buffer  # the websocket client library reads it (bench/bench_gateway.py)
_.hedge_reactive  # set on purpose to prove a frozen map refuses it (tests/unit/test_control.py)

# --- named by configuration, not by code ------------------------------------------------------------
_.BoundedThreadWorker  # gunicorn loads it by its dotted name (synthmarket/infra/gunicorn_app.py)
_.nr_conns  # gunicorn's ThreadWorker counts open connections in it (synthmarket/infra/bounded_worker.py)
_.order_type  # SmartMoneyEvent: a public field, read by name in to_dict and the wire (synthmarket/domain/marketdata.py)
_.volume  # SmartMoneyEvent: a public field, read by name in to_dict and the wire
_.OPTION_CONDITIONS  # the OPRA sale-condition vocabulary (synthmarket/domain/chain.py), checked by the tape tests
_.COMPLEX_CONDITIONS  # the multi-leg and stock-tied codes (synthmarket/domain/chain.py), read by the footprint checks
