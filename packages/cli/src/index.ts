export { run, program } from './main.js';
export { renderWho } from './commands/who.js';
export { parseObjectPath } from './object-ref.js';
