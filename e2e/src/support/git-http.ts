// The smart-HTTP git server lives with libs/git, whose own tests use it too.
export { HttpGitServer, type HttpGitAuth } from '@capstan/git/testing';
