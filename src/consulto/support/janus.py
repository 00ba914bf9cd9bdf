"""A session of Janus's HTTP API with one plugin handle, from our server: requests carry the
``api_secret``, events come by long polling (which also keeps the session alive). Used by the
support console's phone calls (``consumers.PhoneConsumer``); nothing here knows about SIP."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx

REQUEST_SECONDS = 10.0
# Janus answers a long poll after 30 s at most (with a "keepalive" when nothing happened).
POLL_SECONDS = 45.0


class JanusError(Exception):
    """Janus refused a request, or could not be reached; the message says which."""


class Janus:
    def __init__(self, url: str, secret: str, client: httpx.AsyncClient):
        self.url, self.secret, self.client = url.rstrip("/"), secret, client
        self.session_id: int | None = None
        self.handle_id: int | None = None

    @classmethod
    async def open(cls, url: str, secret: str, plugin: str) -> Janus:
        """A new session attached to ``plugin`` (e.g. "janus.plugin.sip")."""
        janus = cls(url, secret, httpx.AsyncClient(timeout=REQUEST_SECONDS))
        try:
            created = await janus._post(janus.url, {"janus": "create"})
            janus.session_id = created["data"]["id"]
            attached = await janus._post(
                f"{janus.url}/{janus.session_id}", {"janus": "attach", "plugin": plugin}
            )
            janus.handle_id = attached["data"]["id"]
        except BaseException:
            await janus.close()
            raise
        return janus

    async def message(self, body: dict, jsep: dict | None = None) -> None:
        """Send the plugin a request; its answers arrive as events."""
        request = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        await self._post(self._handle_url, request)

    async def trickle(self, candidate: dict | None) -> None:
        """One ICE candidate of the browser (None: it has sent them all)."""
        request = {"janus": "trickle", "candidate": candidate or {"completed": True}}
        await self._post(self._handle_url, request)

    async def events(self) -> AsyncIterator[dict]:
        """The session's events, as they come, until the session is gone."""
        url = f"{self.url}/{self.session_id}"
        while True:
            try:
                response = await self.client.get(
                    url,
                    params={"apisecret": self.secret, "maxev": 10},
                    timeout=POLL_SECONDS,
                )
            except httpx.HTTPError as error:
                raise JanusError(f"Janus's events could not be read: {error!r}") from error
            if response.status_code == 404:  # the session was destroyed or timed out
                return
            if response.status_code != 200:
                raise JanusError(f"Janus answered {response.status_code} to a long poll")
            answer = response.json()
            for event in answer if isinstance(answer, list) else [answer]:
                if event.get("janus") != "keepalive":
                    yield event

    async def close(self) -> None:
        """Destroy the session (Janus hangs up what is left) and let the connections go."""
        try:
            if self.session_id is not None:
                await self._post(f"{self.url}/{self.session_id}", {"janus": "destroy"})
        except JanusError:
            pass  # already gone: destroyed, timed out, or Janus restarted
        finally:
            self.session_id = None
            await self.client.aclose()

    @property
    def _handle_url(self) -> str:
        return f"{self.url}/{self.session_id}/{self.handle_id}"

    async def _post(self, url: str, request: dict) -> dict:
        request = {**request, "transaction": secrets.token_hex(8), "apisecret": self.secret}
        try:
            response = await self.client.post(url, json=request)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise JanusError(f"Janus could not be reached at {self.url}: {error!r}") from error
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(f"Janus refused {request['janus']}: {error.get('reason', answer)}")
        return answer
