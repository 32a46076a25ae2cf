import * as core from '@actions/core';
import type { Logger } from '../logger.ts';
import type { Redactor } from '../redact.ts';

/** The core's Logger on the GitHub runner: workflow commands, masked twice over. */
export function actionsLogger(redactor: Redactor): Logger {
  return {
    info: (message) => core.info(redactor.redact(message)),
    notice: (message) => core.notice(redactor.redact(message)),
    warning: (message) => core.warning(redactor.redact(message)),
    debug: (message) => core.debug(redactor.redact(message)),
    secret: (value) => {
      redactor.add(value);
      core.setSecret(value);
    },
  };
}
