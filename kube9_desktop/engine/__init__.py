"""The cluster engine: asyncio only, no Qt anywhere below this package."""
