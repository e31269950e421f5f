/** The administrator password every test registry and daemon is started with. */
export const testAdminPassword = 'test-admin-password';
