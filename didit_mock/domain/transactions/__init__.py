"""Transaction monitoring (KYT): transactions, the rules evaluated on each one, wallet screening."""
