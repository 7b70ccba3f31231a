// Chinese (default) messages. This file is the schema: every other language must have the same keys.
const zhCN = {
  common: {
    appName: '铁脚板',
    // Shown on the language switch: the name of the language it switches to.
    switchLanguage: 'English',
    notSet: '未设置',
    refresh: '刷新',
    loading: '加载中…',
  },
  roles: {
    inspector: '巡查员',
    chief: '科长',
    dispatcher: '派遣员',
    department: '专业部门',
    admin: '管理员',
  },
  app: {
    status: {
      title: '设备状态',
      registration: '注册状态',
      registered: '已注册',
      unregistered: '未注册',
      serverUrl: '服务器',
      username: '用户',
      deviceId: '设备编号',
      pendingOps: '待发送',
      findings: '上报总数',
      failed: '无法读取设备状态: {detail}',
    },
  },
  console: {
    title: '铁脚板 管理控制台',
    signIn: {
      title: '登录',
      username: '用户名',
      password: '密码',
      submit: '登录',
      welcome: '欢迎, {name} ({role})',
      httpError: '登录失败 (HTTP {status})',
      networkError: '无法连接服务器: {detail}',
    },
  },
};

export default zhCN;
