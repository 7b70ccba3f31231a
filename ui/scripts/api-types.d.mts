// Types of scripts/api-types.mjs, for the test that checks the generated file.
export declare const documentPath: string;
export declare const outputPath: string;
export declare function apiTypes(): Promise<string>;
