// Props shapes shared between the console's components and the pages that feed them.

export interface MapPoint {
  id: string;
  lat: number;
  lon: number;
  label?: string;
  color?: string;
}

export interface MapTrack {
  id: string;
  /** WGS-84 [lat, lon] in order of time. */
  points: [number, number][];
  label?: string;
  color?: string;
}

/** A shaded area (a unit grid): polygons of rings, each `[lat, lon]` WGS-84, outer ring first. */
export interface MapArea {
  id: string;
  polygons: [number, number][][][];
  label?: string;
  color?: string;
  /** Shows the label on the map, not only on hover. */
  permanentLabel?: boolean;
}

export interface ViewerPhoto {
  sha256: string;
  /** e.g. before / after, or the history step the photo belongs to. */
  caption?: string;
}
