import type zhCN from './zh-CN';

/** The shape of every language's messages: zh-CN's. */
export type MessageSchema = typeof zhCN;
