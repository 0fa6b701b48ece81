"""b24gate: the Python client of the b24gate Bitrix24 gateway.

Gateway (sync) and b24gate.aio.AsyncGateway (asyncio) wrap the generated
stubs in bitrix24.gateway.v1; every failure is a BitrixError.
"""

from b24gate.client import Gateway, ListReader
from b24gate.errors import BitrixError

__all__ = ["Gateway", "ListReader", "BitrixError"]
