"""The rules and the state of the emulated Didit API: pure Python, no HTTP, no wall clock."""
