// The action's entry point, for both `main` and `post` in action.yml: the post
// step is told apart by the state the main step saved (as actions/checkout does).
import { isPostStep } from './runner/state.ts';
import { runMain } from './runner/main.ts';
import { runPost } from './runner/post.ts';

await (isPostStep() ? runPost() : runMain());
// Everything is written (the runner's files synchronously, stdout is a pipe). Exit
// now rather than wait for sockets of aborted attempts to reach undici's own
// connect timeout, which would hold the step long after its result is known.
process.exit();
