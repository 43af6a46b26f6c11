"""The sample platforms: generated conversations served in each platform's real API shape.

``World`` generates the conversations; ``SampleServer`` serves them over HTTP on localhost with
the platforms' paths, paging, credentials, rate-limit headers and occasional 429s. The demo,
tests and benchmarks harvest from it; no real payload is shipped with the project.
"""

from archiver.samples.server import SampleRequest, SampleResponse, SampleServer
from archiver.samples.world import World

__all__ = ["World", "SampleServer", "SampleRequest", "SampleResponse"]
