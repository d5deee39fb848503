"""One process's view of the harness: settings, the guard decision, the network guard, the embedded app."""

from __future__ import annotations

import pytest

from safety.coverage import Coverage
from safety.decision import GuardDecision, decide
from safety.embedded import EmbeddedApp, EmbeddedAppError
from safety.environment import EnvironmentReading, read_environment
from safety.network_guard import NetworkGuard
from safety.override import OVERRIDE_ENV
from safety.redirects import probe_redirects
from safety.settings import SafetySettings
from safety.summary import GuardTally

# The embedded app always listens on this address; its port is only known once it runs.
EMBEDDED_ORIGIN = "http://127.0.0.1"


class SafetySession:
    def __init__(
        self, settings: SafetySettings, decision_json: str | None = None, guard: NetworkGuard | None = None
    ) -> None:
        self.settings = settings
        self.guard = guard if guard is not None else NetworkGuard(settings.policy)
        self.guard.policy = settings.policy
        self.tally = GuardTally()
        self.coverage = Coverage()
        #: --e2e-strict / E2E_STRICT / ini e2e_strict: skips for lack of setup fail the run.
        self.strict = False
        self._decision = GuardDecision.from_json(decision_json) if decision_json else None
        if self._decision is not None:
            self.guard.add_prod_origins(self._decision.prod_origins, self._decision.why)
        self._embedded: EmbeddedApp | None = None
        # The pytest session (its exit status is failed by a block outside any test), and
        # the blocks that xdist workers recorded outside their tests.
        self.pytest_session: pytest.Session | None = None
        self.remote_outside: list[str] = []
        self._embedded_error: str | None = None

    def decision(self) -> GuardDecision:
        """Decide once per run (xdist workers receive the controller's decision instead)."""
        if self._decision is None:
            choice = self.settings.choice
            if choice.embedded:
                self._decision = decide(choice, EMBEDDED_ORIGIN, self.settings.policy, self.settings.override, None)
            else:
                assert choice.url is not None
                static = self.settings.policy.classify_url(choice.url)
                # A production target without the override is skipped anyway: no need to contact it.
                probe = (
                    None
                    if static.is_prod and not self.settings.override
                    else probe_redirects(choice.url, self.settings.policy)
                )
                environment: EnvironmentReading | None = None
                if not static.is_prod and probe is not None and probe.error is None and probe.worst is None:
                    # Only a target the host rules call local or safe needs to say what it is.
                    environment = read_environment(choice.url)
                self._decision = decide(
                    choice,
                    choice.url,
                    self.settings.policy,
                    self.settings.override,
                    probe,
                    environment,
                    self.settings.prod_environments,
                )
                self.guard.add_prod_origins(self._decision.prod_origins, self._decision.why)
        return self._decision

    def outside_blocks(self) -> list[str]:
        """Blocked requests no test owns: before, between or after the tests, here or on a worker."""
        return self.guard.outside + self.remote_outside

    def embedded_url(self) -> str:
        """Start the embedded app on first use; later calls return its URL (or repeat its failure)."""
        if self._embedded_error is not None:
            raise EmbeddedAppError(self._embedded_error)
        if self._embedded is None:
            app = EmbeddedApp()
            try:
                app.start()
            except EmbeddedAppError as error:
                app.stop()
                self._embedded_error = str(error)
                raise
            self._embedded = app
        return self._embedded.url

    @property
    def embedded_app(self) -> EmbeddedApp | None:
        """The embedded reference app once started; None before, and when another deployment is the target."""
        return self._embedded

    def header_lines(self) -> list[str]:
        d = self.decision()
        target = (
            "embedded reference app (started on 127.0.0.1 on first use, one per process)"
            if (self.settings.choice.embedded)
            else f"{d.target} (from {d.source})"
        )
        lines = [f"e2e target: {target}", f"e2e target class: {d.target_class}: {d.why}"]
        told = f"; {d.environment}" if d.environment and d.rule != "environment" else ""
        lines.append(f"e2e classified by: the {d.rule} rule{told}")
        if d.outcome == "allow":
            lines.append("e2e mutating tests: will run")
        elif d.outcome == "skip":
            lines.append(f"e2e mutating tests: will be SKIPPED ({OVERRIDE_ENV} not set)")
        else:
            lines.append(f"e2e mutating tests: will ERROR: {d.reason}")
        if d.prod_override_active:
            banner = "!" * 78
            lines += [
                banner,
                f"!!! {OVERRIDE_ENV}={self.settings.override_raw}: MUTATING TESTS WILL CHANGE PRODUCTION DATA",
                f"!!! on {d.host} ({d.target}).",
                banner,
            ]
        elif self.settings.override:
            lines.append(f"e2e note: {OVERRIDE_ENV} is set but has no effect: the target is not production.")
        if self.strict:
            lines.append("e2e strict: on: a test skipped for lack of setup fails the run")
        return lines

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
