"""Generated protobuf/gRPC stubs for package synthmarket.v1 (rebuild with scripts/gen_protos.py)."""
