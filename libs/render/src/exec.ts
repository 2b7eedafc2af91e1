import { execFile } from 'node:child_process';
import { ToolError } from './errors.js';

export interface ToolRun {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Output past this many bytes stops the tool and throws OutputTooLargeError. */
  maxBytes?: number;
}

/** The tool printed more than `ToolRun.maxBytes`; it was stopped there. */
export class OutputTooLargeError extends Error {
  constructor(
    readonly tool: string,
    readonly maxBytes: number,
  ) {
    super(`${tool} printed more than ${maxBytes} bytes`);
    this.name = 'OutputTooLargeError';
  }
}

/** Runs a binary to completion and returns stdout; a non-zero exit throws ToolError with stderr. */
export function runTool(binary: string, args: readonly string[], opts: ToolRun = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      {
        cwd: opts.cwd,
        // undefined inherits the service's environment (PATH, HOME for helm's cache dirs).
        env: opts.env,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: opts.maxBytes ?? 256 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if ((error as { code?: unknown } | null)?.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          reject(new OutputTooLargeError(binary, opts.maxBytes ?? 256 * 1024 * 1024));
        else if (error) reject(new ToolError(binary, stderr.trim() || error.message, stdout));
        else resolve(stdout);
      },
    );
  });
}
