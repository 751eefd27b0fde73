/** Every Lua script of the package, one file per job; only the store loads them. */
export { REPLY, type Script } from './prelude';
export { RESOLVE, SAVE, STATUS, TOUCH } from './requests';
export { LOGIN, LOGOUT, REAUTHENTICATE } from './sign-in';
export { LIST, REVOKE } from './management';
