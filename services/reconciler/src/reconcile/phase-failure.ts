import type { ChangeSetEntry } from '@capstan/events';
import { ManifestError, describeObject } from '@capstan/gitops-core';
import { GitContentError } from '@capstan/git';
import { ApplyRejectedError } from '@capstan/kube';
import { RenderError } from '@capstan/render';
import { describeError } from '@capstan/messaging';
import type { FailureReason, ReconcileFailure } from '../domain/outcome.js';
import { HookFailedError } from './hooks/hook-runner.js';

/** A phase ended the reconcile; `failure` is the typed outcome it ends with. */
export class PhaseFailure extends Error {
  override readonly name = 'PhaseFailure';
  constructor(readonly failure: ReconcileFailure) {
    super(failure.message);
  }
}

/** A failure with one message and nothing more precise to name. */
export function phaseFailure(reason: FailureReason, message: string): PhaseFailure {
  return new PhaseFailure({ kind: 'failed', reason, message, failures: [{ message }] });
}

/** The build phase's failure: bad content names its file (and document); anything else is retried. */
export function buildFailure(e: unknown): PhaseFailure {
  if (e instanceof RenderError || e instanceof ManifestError || e instanceof GitContentError) {
    const document = e instanceof GitContentError ? undefined : e.document;
    return new PhaseFailure({
      kind: 'failed',
      reason: 'BuildFailed',
      message: e.message,
      failures: [{ file: e.file, ...(document === undefined ? {} : { document }), message: e.detail }],
    });
  }
  return phaseFailure('ArtifactFailed', describeError(e));
}

/**
 * A failure while validating, planning, writing or running hooks. The API server's verdicts on
 * objects name each object and its file; a connection error is worth a retry, not a verdict on
 * the commit. `written`: what the staged apply wrote before it failed.
 */
export function applyFailure(
  step: string,
  e: unknown,
  written: readonly ChangeSetEntry[] = [],
): PhaseFailure {
  const wrote = written.length > 0 ? { written: [...written] } : {};
  if (e instanceof HookFailedError)
    return new PhaseFailure({
      kind: 'failed',
      reason: 'HookFailed',
      message: e.message,
      failures: [
        {
          object: describeObject(e.hook.object),
          file: e.hook.origin.file,
          document: e.hook.origin.document,
          message: e.detail,
        },
      ],
      ...wrote,
    });
  if (e instanceof ApplyRejectedError)
    return new PhaseFailure({
      kind: 'failed',
      reason: e.validation ? 'ValidationFailed' : 'ApplyFailed',
      message: e.message,
      failures: e.failures.map((f) => ({
        object: f.object,
        ...(f.origin ? { file: f.origin.file, document: f.origin.document } : {}),
        message: f.message,
      })),
      ...wrote,
    });
  const message = `${step}: ${describeError(e)}`;
  return new PhaseFailure({
    kind: 'failed',
    reason: 'ArtifactFailed',
    message,
    failures: [{ message }],
    ...wrote,
  });
}
