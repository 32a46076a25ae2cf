// The action's entry point, for both `main` and `post` in action.yml: the post
// step is told apart by the state the main step saved (as actions/checkout does).
import { isPostStep } from './runner/state.ts';
import { runMain } from './runner/main.ts';
import { runPost } from './runner/post.ts';

await (isPostStep() ? runPost() : runMain());
// Exit as soon as the result is written, rather than wait for sockets of aborted
// attempts to reach undici's own connect timeout, which would hold the step long
// after its result is known. Pipes are asynchronous on macOS and Windows runners:
// flush both streams first.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit();
