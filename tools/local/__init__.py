"""Local cloud for the OMS: runs the stack declared in infra/template.yaml on this machine.

DynamoDB Local holds the table, an in-process moto server plays EventBridge, SQS, Step Functions
and the Lambda control plane, `cargo lambda watch` runs the Rust functions, and our own harness
adds what neither emulator does: Lambda invokes forwarded to watch, EventBridge targets of kind
Lambda and Step Functions, event source mappings (stream and queue pollers) and an API Gateway
HTTP API with its JWT authorizer. Entry point: `./dev` at the repo root (`python -m tools.local`).
"""
