# Thin wrapper for people who type `make`; ./dev is the real entry point (make is not always installed).
.PHONY: up test lint stop
up:
	./dev up
test:
	./dev test
lint:
	./dev lint
stop:
	./dev stop
