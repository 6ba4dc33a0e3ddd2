"""The main job: sources -> analysis -> store -> report, streaming and resumable.

``scan(paths, store=...)`` reads every input with ``patroli.sources.read_posts``, analyses
each post with ``patroli.analysis.analyze``, and writes the results to the store in
batches (one transaction per batch). A killed scan keeps every committed batch; running
the same command again re-reads the input, recognises the posts already assessed with
the same rule-set and model versions, verified against the same registry
(``Store.known_keys``) and writes only the rest, so a rerun finishes the job without
duplicates; after a new rule set or a new model (``patroli train``) the same scan stores
a new assessment of every post beside the old one (assessments are unique per post,
rule-set version and model version); after a new registry snapshot (``patroli registry
import``) or a watch/allow-list change it re-verifies every post and replaces its
assessment.

Memory stays flat in input size: only counters, the top-N riskiest posts and the
current batch are held; report writers (``patroli.report``) stream to their files.
"""

from __future__ import annotations

import dataclasses
import gc
import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from patroli.analysis import DEFAULT_CLASSIFIER, analyze_batch
from patroli.analysis.rules import RuleSet, default_ruleset
from patroli.sources import RecordError, SourceOptions, read_posts
from patroli.store import registry_version_of
from patroli.types import Assessment, Post

#: posts per database transaction
DEFAULT_BATCH_SIZE = 500
#: how many of the riskiest posts the summary keeps for the triage table
DEFAULT_TOP_N = 20
#: how many record errors the summary keeps in memory (all are counted and stored)
MAX_ERRORS_KEPT = 200


class ResultSink(Protocol):
    """Receives every analysed post in input order (report writers implement this)."""

    def write(self, post: Post, assessment: Assessment) -> None: ...


@dataclass
class ScanSummary:
    """What a scan did.

    posts_read: posts analysed; posts_new: posts written to the store in this run;
    posts_already_stored: posts an earlier (possibly killed) run had already assessed
    with the same rule-set version; errors: number of malformed records skipped;
    error_samples: the first ``MAX_ERRORS_KEPT`` of them (location, message);
    by_level / by_label / by_platform / by_destination: post counts (destination: ISO
    country codes named in the post, Indonesia excluded); top: the riskiest posts,
    highest score first.
    """

    run_ids: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    rule_set_version: str = ""
    posts_read: int = 0
    posts_new: int = 0
    posts_already_stored: int = 0
    errors: int = 0
    error_samples: list[RecordError] = field(default_factory=list)
    by_level: Counter = field(default_factory=Counter)
    by_label: Counter = field(default_factory=Counter)
    by_platform: Counter = field(default_factory=Counter)
    by_destination: Counter = field(default_factory=Counter)
    top: list[tuple[Post, Assessment]] = field(default_factory=list)

    def count(self, post: Post, assessment: Assessment) -> None:
        self.posts_read += 1
        self.by_level[assessment.level] += 1
        self.by_label[assessment.label] += 1
        self.by_platform[post.platform or "unknown"] += 1
        for country in destinations(assessment):
            self.by_destination[country] += 1

    def add_error(self, error: RecordError) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERRORS_KEPT:
            self.error_samples.append(error)

    def to_dict(self) -> dict:
        return {
            "run_ids": self.run_ids,
            "sources": self.sources,
            "rule_set_version": self.rule_set_version,
            "posts_read": self.posts_read,
            "posts_new": self.posts_new,
            "posts_already_stored": self.posts_already_stored,
            "errors": self.errors,
            "by_level": dict(self.by_level),
            "by_label": dict(self.by_label),
            "by_platform": dict(self.by_platform),
            "by_destination": dict(self.by_destination),
        }


def destinations(assessment: Assessment) -> list[str]:
    """ISO codes of the countries (and cities' countries) a post names, Indonesia excluded."""
    seen: list[str] = []
    for e in assessment.entities:
        code = e.value if e.kind == "country" else e.data.get("country") if e.kind == "city" else None
        if code and code != "ID" and code not in seen:
            seen.append(code)
    return seen


class _TopN:
    """The N riskiest posts seen so far (ties keep the earlier post)."""

    def __init__(self, n: int):
        self.n = n
        self._heap: list[tuple[int, int, Post, Assessment]] = []
        self._seq = 0

    def push(self, post: Post, assessment: Assessment) -> None:
        self._seq += 1
        item = (assessment.risk_score, -self._seq, post, assessment)
        if len(self._heap) < self.n:
            heapq.heappush(self._heap, item)
        elif item[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, item)

    def items(self) -> list[tuple[Post, Assessment]]:
        return [(p, a) for _, _, p, a in sorted(self._heap, key=lambda t: t[:2], reverse=True)]


def _batches(posts: Iterable[Post], size: int) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for post in posts:
        batch.append(post)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_heap_frozen = False


def prepare_analysis(store=None, rules: RuleSet | None = None, verifier: Any = "default",
                     classifier: Any = DEFAULT_CLASSIFIER) -> tuple[RuleSet, Any, Any]:
    """Load what a scan analyses with, then settle the heap; ``scan`` starts with it.

    Returns ``(rules, verifier, classifier)``: the bundled rules when ``rules`` is None;
    for ``verifier="default"`` the one ``patroli.verify.verifier.build_verifier`` builds
    from ``store`` (None stays None); for ``classifier="default"`` the active model
    (``patroli.model.registry.load_default_classifier``; None stays None).

    Then, once per process, garbage is collected and every object alive is moved out of
    the cyclic garbage collector's reach (``gc.freeze``): the imported modules (scikit-
    learn, SciPy, SQLAlchemy), the rules, the registry and the model, about 100,000
    objects. Without it, the full collections that a batch's allocations trigger every
    few hundred posts rescan them all: 37 µs of a post's 400 µs (``bench/throughput.py``,
    which prepares the same way). Objects frozen here are still freed by reference
    counting; only a reference cycle among them would outlive its use.
    """
    global _heap_frozen
    rules = rules or default_ruleset()
    if isinstance(verifier, str) and verifier == "default":
        from patroli.verify.verifier import build_verifier

        verifier = build_verifier(store, rules=rules)
    if isinstance(classifier, str) and classifier == DEFAULT_CLASSIFIER:
        from patroli.model.registry import load_default_classifier

        classifier = load_default_classifier()
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()
    return rules, verifier, classifier


def scan(
    paths: Iterable[str | Path],
    *,
    store=None,
    options: SourceOptions | None = None,
    rules: RuleSet | None = None,
    sinks: Iterable[ResultSink] = (),
    batch_size: int = DEFAULT_BATCH_SIZE,
    top_n: int = DEFAULT_TOP_N,
    on_progress: Callable[[int], None] | None = None,
    on_error: Callable[[RecordError], None] | None = None,
    verifier: Any = "default",
    classifier: Any = "default",
) -> ScanSummary:
    """Scan inputs into the store and the sinks.

    paths: files or directories (formats auto-detected unless ``options.format``).
    store: a ``patroli.store.Store`` or None (analyse only, nothing stored).
    sinks: report writers; each gets every analysed post in input order.
    on_progress(posts_read): called after each batch.
    on_error: called for each malformed record (after it is counted).
    verifier: a ``patroli.verify.Verifier`` for the registry / watchlist checks; the
        default ``"default"`` builds one with ``patroli.verify.verifier.build_verifier``
        (the store's latest registry snapshot and watch/allow entries, else the bundled
        demo registry); None: no registry check.
    classifier: the model combined with the rules (``analysis.analyze_batch``):
        "default" the active model, None the rules alone.
    Raises ``patroli.sources.SourceError`` when an input is missing, unreadable or
    binary (nothing of that input is stored; earlier inputs stay stored).
    """
    rules, verifier, classifier = prepare_analysis(store, rules, verifier, classifier)
    options = options or SourceOptions()
    sinks = list(sinks)
    summary = ScanSummary(rule_set_version=rules.version)
    top = _TopN(top_n)

    for path in paths:
        source = str(path)
        summary.sources.append(source)
        run_id = None
        run_errors: list[tuple[str, str]] = []
        posts = read_posts(path, options,
                           on_error=_error_recorder(summary, run_errors, on_error))
        counts = Counter()
        if store is not None:
            store.mark_stale_runs(source)
            run_id = store.start_run(source, _options_dict(options))
            summary.run_ids.append(run_id)
        status = "failed"
        try:
            for batch in _batches(posts, batch_size):
                analysed = list(zip(batch, analyze_batch(batch, rules=rules, verifier=verifier,
                                                         classifier=classifier), strict=True))
                for post, assessment in analysed:
                    summary.count(post, assessment)
                    top.push(post, assessment)
                    for sink in sinks:
                        sink.write(post, assessment)
                counts["posts_read"] += len(batch)
                if store is not None:
                    first = analysed[0][1]
                    known = store.known_keys(post.source, (p.key for p in batch), rules.version,
                                             first.model_version, registry_version_of(first))
                    fresh = [(p, a) for p, a in analysed if p.key not in known]
                    new = store.save_batch(run_id, fresh) if fresh else 0
                    counts["posts_new"] += new
                    counts["posts_skipped"] += len(batch) - len(fresh)
                    if run_errors:
                        store.add_errors(run_id, run_errors)
                        counts["errors"] += len(run_errors)
                        run_errors.clear()
                if on_progress:
                    on_progress(summary.posts_read)
            status = "completed"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if store is not None and run_id is not None:
                if run_errors:
                    store.add_errors(run_id, run_errors)
                    counts["errors"] += len(run_errors)
                store.finish_run(run_id, status=status, counts=dict(counts))
            summary.posts_new += counts["posts_new"]
            summary.posts_already_stored += counts["posts_skipped"]

    summary.top = top.items()
    return summary


def _error_recorder(summary: ScanSummary, pending: list[tuple[str, str]],
                    on_error: Callable[[RecordError], None] | None,
                    ) -> Callable[[RecordError], None]:
    """Callback for a source: count the error, queue it for the store, pass it on."""

    def record(err: RecordError) -> None:
        summary.add_error(err)
        pending.append((err.location, err.message))
        if on_error:
            on_error(err)

    return record


def _options_dict(options: SourceOptions) -> dict:
    return {k: v for k, v in dataclasses.asdict(options).items() if v is not None}
