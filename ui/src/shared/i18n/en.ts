// English messages; the type makes the compiler report any key missing against zh-CN.
import type { MessageSchema } from './schema';

const en: MessageSchema = {
  common: {
    appName: 'Tiejiaoban',
    switchLanguage: '中文',
    notSet: 'Not set',
    refresh: 'Refresh',
    loading: 'Loading…',
  },
  roles: {
    inspector: 'Inspector',
    chief: 'Section chief',
    dispatcher: 'Dispatcher',
    department: 'Department',
    admin: 'Administrator',
  },
  app: {
    status: {
      title: 'Device status',
      registration: 'Registration',
      registered: 'Registered',
      unregistered: 'Not registered',
      serverUrl: 'Server',
      username: 'User',
      deviceId: 'Device ID',
      pendingOps: 'Waiting to send',
      findings: 'Findings reported',
      failed: 'Cannot read the device status: {detail}',
    },
  },
  console: {
    title: 'Tiejiaoban Console',
    signIn: {
      title: 'Sign in',
      username: 'Username',
      password: 'Password',
      submit: 'Sign in',
      welcome: 'Welcome, {name} ({role})',
      httpError: 'Sign-in failed (HTTP {status})',
      networkError: 'Cannot reach the server: {detail}',
    },
  },
};

export default en;
