"""The parts of vaultsim, the project's Vault Transit test server: HTTP
transport, core routing and ACLs, tokens, sys/ endpoints and Transit."""
